"""A tiny random-weight Whisper model in CTranslate2 format, built offline in about a second.

It has the real layout of a multilingual Whisper model (Whisper's vocabulary size and special
tokens, language tokens, 1501 timestamp tokens, mel front end, encoder/decoder, alignment heads)
so that ``faster_whisper.WhisperModel`` loads it and runs its full transcribe path — VAD, language
detection, temperature fallback, word timestamps — exactly as with a real model. Its weights are
random, so its text is meaningless: tests assert structure, timing and storage, never words.

Usable from any test: ``build_tiny_whisper(tmp_path / "tiny-whisper")`` returns the directory.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Whisper's language tokens, in the order of the original tokenizer (large-v2: 99 languages).
WHISPER_LANGUAGES = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg "
    "lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so "
    "af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su"
).split()
TASK_TOKENS = ("<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
               "<|notimestamps|>")
TEXT_VOCAB_SIZE = 50257  # byte-level BPE tokens before <|endoftext|>, as in Whisper
TIMESTAMPS = 1501  # <|0.00|> ... <|30.00|>
N_MELS = 80


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table (what ByteLevel uses)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars)))


def _filler_tokens(count: int) -> list[str]:
    """Distinct lowercase pseudo-words (half of them with a leading space, 'Ġ')."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    tokens = []
    n = 26
    while len(tokens) < count:
        word, value = "", n
        while value:
            value, rest = divmod(value, 26)
            word = letters[rest] + word
        tokens.append(("Ġ" if n % 2 else "") + word)
        n += 1
    return tokens


def text_vocabulary() -> list[str]:
    byte_chars = list(_bytes_to_unicode().values())
    # The last text token of multilingual Whisper is the empty string: CTranslate2 tells a
    # multilingual model from an English-only one by its presence.
    return byte_chars + _filler_tokens(TEXT_VOCAB_SIZE - len(byte_chars) - 1) + [""]


def special_tokens() -> list[str]:
    return (["<|endoftext|>", "<|startoftranscript|>"] + [f"<|{code}|>" for code in WHISPER_LANGUAGES]
            + list(TASK_TOKENS))


def timestamp_tokens() -> list[str]:
    return ["<|%.2f|>" % (i * 0.02) for i in range(TIMESTAMPS)]


def write_tokenizer(path: Path, text_tokens: list[str]) -> None:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    tokenizer = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(text_tokens)}, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special_tokens()])
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in timestamp_tokens()])
    tokenizer.save(str(path))


def build_tiny_whisper(directory: Path, *, d_model: int = 64, heads: int = 2, encoder_layers: int = 1,
                       decoder_layers: int = 2, ffn: int = 128, seed: int = 0,
                       favoured_words: int = 20, favour: float = 10.0) -> Path:
    """Write a loadable CTranslate2 Whisper model to ``directory`` and return it."""
    from ctranslate2.specs import whisper_spec

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tokens = text_vocabulary() + special_tokens() + timestamp_tokens()
    vocab = len(tokens)

    def rand(*shape: int, scale: float = 0.05) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def norm(spec) -> None:
        spec.gamma = np.ones(d_model, np.float32)
        spec.beta = np.zeros(d_model, np.float32)

    def linear(spec, out: int, inp: int) -> None:
        spec.weight = rand(out, inp)
        spec.bias = np.zeros(out, np.float32)

    def ffn_layer(spec) -> None:
        norm(spec.layer_norm)
        linear(spec.linear_0, ffn, d_model)
        linear(spec.linear_1, d_model, ffn)

    def attention(spec, cross: bool) -> None:
        norm(spec.layer_norm)
        if cross:  # query; fused key+value over the encoder output; output
            linear(spec.linear[0], d_model, d_model)
            linear(spec.linear[1], 2 * d_model, d_model)
        else:  # fused query+key+value; output
            linear(spec.linear[0], 3 * d_model, d_model)
        linear(spec.linear[-1], d_model, d_model)

    spec = whisper_spec.WhisperSpec(encoder_layers, heads, decoder_layers, heads)
    encoder = spec.encoder
    encoder.conv1.weight, encoder.conv1.bias = rand(d_model, N_MELS, 3), np.zeros(d_model, np.float32)
    encoder.conv2.weight, encoder.conv2.bias = rand(d_model, d_model, 3), np.zeros(d_model, np.float32)
    encoder.position_encodings.encodings = rand(1500, d_model)
    norm(encoder.layer_norm)
    for layer in encoder.layer:
        attention(layer.self_attention, cross=False)
        ffn_layer(layer.ffn)

    decoder = spec.decoder
    decoder.embeddings.weight = rand(vocab, d_model)
    decoder.position_encodings.encodings = rand(448, d_model)
    norm(decoder.layer_norm)
    decoder.projection.weight = decoder.embeddings.weight  # tied, as in Whisper
    # A bias towards a few space-led words makes the random decoder emit word sequences (rather
    # than near-uniform noise over 51865 tokens), so segments carry several timed words.
    bias = np.zeros(vocab, np.float32)
    bias[[tokens.index(t) for t in _filler_tokens(2 * favoured_words)[1::2]]] = favour
    decoder.projection.bias = bias
    for layer in decoder.layer:
        attention(layer.self_attention, cross=False)
        attention(layer.attention, cross=True)
        ffn_layer(layer.ffn)

    spec.register_vocabulary(tokens)
    eot = TEXT_VOCAB_SIZE
    space = tokens.index("Ġ")
    config = spec.config
    # CTranslate2 reads the special tokens from the config; missing ones would be *added* to the
    # vocabulary, shifting its size off Whisper's and making the model look English-only.
    for key, token in (("unk_token", "<|endoftext|>"), ("bos_token", "<|startoftranscript|>"),
                       ("eos_token", "<|endoftext|>")):
        config.add_attribute(key, token)
    config.suppress_ids = []
    config.suppress_ids_begin = [space, eot]
    config.lang_ids = [tokens.index(f"<|{code}|>") for code in WHISPER_LANGUAGES]
    config.alignment_heads = [[layer, head] for layer in range(decoder_layers // 2, decoder_layers)
                              for head in range(heads)]
    spec.validate()
    spec.optimize(quantization="float16")
    spec.save(str(directory))

    write_tokenizer(directory / "tokenizer.json", text_vocabulary())
    (directory / "preprocessor_config.json").write_text(json.dumps({
        "feature_size": N_MELS, "hop_length": 160, "chunk_length": 30, "n_fft": 400,
        "sampling_rate": 16000, "n_samples": 480000, "nb_max_frames": 3000,
    }))
    return directory


if __name__ == "__main__":  # python tests/whisper_fixture.py DIR
    import sys

    print(build_tiny_whisper(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-whisper")))
