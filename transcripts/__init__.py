"""Transcription with faster-whisper: segments, words, confidence, exports, corrections, theme suggestions."""
