"""foundation: testimonies, media, consent, terms, themes, audit, transcripts, renditions, episodes

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

# The controlled theme vocabulary of DESIGN.md (French, extensible by later revisions).
THEMES = [
    ("expulsion", "Expulsion"),
    ("refoulement", "Refoulement"),
    ("détention", "Détention"),
    ("violences", "Violences"),
    ("santé", "Santé"),
    ("biens-non-récupérés", "Biens non récupérés"),
    ("famille", "Famille"),
    ("retour", "Retour"),
    ("réinsertion", "Réinsertion"),
    ("travail", "Travail"),
    ("droits-et-recours", "Droits et recours"),
    ("visa", "Visa"),
    ("voyage-désert", "Voyage par le désert"),
    ("voyage-mer", "Voyage par la mer"),
    ("démystification", "Démystification"),
]


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('episodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('programme', sa.String(length=256), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('season', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=512), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('rundown', sa.JSON(), nullable=False),
    sa.Column('rundown_sha256', sa.String(length=64), nullable=True),
    sa.Column('duration', sa.Double(), nullable=True),
    sa.Column('loudness', sa.JSON(), nullable=False),
    sa.Column('cue', sa.JSON(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('taken_down_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_episodes')),
    sa.UniqueConstraint('programme', 'number', name=op.f('uq_episodes_programme')),
    sa.UniqueConstraint('slug', name=op.f('uq_episodes_slug'))
    )
    op.create_table('testimonies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=16), nullable=True),
    sa.Column('internal_key', sa.String(length=64), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('source_name', sa.String(length=512), nullable=False),
    sa.Column('pseudonym', sa.String(length=128), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('place', sa.String(length=256), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('expelled_from', sa.String(length=2), nullable=True),
    sa.Column('route', sa.String(length=256), nullable=True),
    sa.Column('interviewer', sa.String(length=128), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('duration', sa.Double(), nullable=False),
    sa.Column('muted_spans', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_testimonies')),
    sa.UniqueConstraint('public_id', name=op.f('uq_testimonies_public_id')),
    sa.UniqueConstraint('source_sha256', name=op.f('uq_testimonies_source_sha256'))
    )
    op.create_table('themes',
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('slug', name=op.f('pk_themes'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('testimony_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=256), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['testimony_id'], ['testimonies.id'], name=op.f('fk_audit_events_testimony_id_testimonies'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_testimony_id'), ['testimony_id'], unique=False)

    op.create_table('consent_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('testimony_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('archive', sa.Boolean(), nullable=False),
    sa.Column('advocacy', sa.Boolean(), nullable=False),
    sa.Column('broadcast', sa.Boolean(), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('identity', sa.String(length=16), nullable=False),
    sa.Column('voice', sa.String(length=16), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('collected_by', sa.String(length=128), nullable=True),
    sa.Column('method', sa.String(length=64), nullable=True),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['testimony_id'], ['testimonies.id'], name=op.f('fk_consent_records_testimony_id_testimonies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records')),
    sa.UniqueConstraint('testimony_id', 'version', name=op.f('uq_consent_records_testimony_id'))
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_records_testimony_id'), ['testimony_id'], unique=False)

    op.create_table('episode_testimonies',
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('testimony_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_episode_testimonies_episode_id_episodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['testimony_id'], ['testimonies.id'], name=op.f('fk_episode_testimonies_testimony_id_testimonies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('episode_id', 'testimony_id', name=op.f('pk_episode_testimonies'))
    )
    op.create_table('media_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('testimony_id', sa.Integer(), nullable=True),
    sa.Column('episode_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('codec', sa.String(length=32), nullable=True),
    sa.Column('sample_rate', sa.Integer(), nullable=True),
    sa.Column('channels', sa.Integer(), nullable=True),
    sa.Column('duration', sa.Double(), nullable=True),
    sa.Column('bitrate', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_media_assets_episode_id_episodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['testimony_id'], ['testimonies.id'], name=op.f('fk_media_assets_testimony_id_testimonies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_assets'))
    )
    with op.batch_alter_table('media_assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_assets_episode_id'), ['episode_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_assets_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_assets_testimony_id'), ['testimony_id'], unique=False)

    op.create_table('sensitive_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('testimony_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=256), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('ignored', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['testimony_id'], ['testimonies.id'], name=op.f('fk_sensitive_terms_testimony_id_testimonies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sensitive_terms')),
    sa.UniqueConstraint('testimony_id', 'term', name=op.f('uq_sensitive_terms_testimony_id'))
    )
    with op.batch_alter_table('sensitive_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sensitive_terms_testimony_id'), ['testimony_id'], unique=False)

    op.create_table('stage_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('testimony_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['testimony_id'], ['testimonies.id'], name=op.f('fk_stage_status_testimony_id_testimonies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_status')),
    sa.UniqueConstraint('testimony_id', 'stage', name=op.f('uq_stage_status_testimony_id'))
    )
    with op.batch_alter_table('stage_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_status_testimony_id'), ['testimony_id'], unique=False)

    op.create_table('testimony_themes',
    sa.Column('testimony_id', sa.Integer(), nullable=False),
    sa.Column('theme_slug', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['testimony_id'], ['testimonies.id'], name=op.f('fk_testimony_themes_testimony_id_testimonies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['theme_slug'], ['themes.slug'], name=op.f('fk_testimony_themes_theme_slug_themes')),
    sa.PrimaryKeyConstraint('testimony_id', 'theme_slug', name=op.f('pk_testimony_themes'))
    )
    op.create_table('transcripts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('testimony_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('language_probability', sa.Double(), nullable=True),
    sa.Column('model', sa.String(length=256), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['testimony_id'], ['testimonies.id'], name=op.f('fk_transcripts_testimony_id_testimonies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcripts')),
    sa.UniqueConstraint('testimony_id', 'version', name=op.f('uq_transcripts_testimony_id'))
    )
    with op.batch_alter_table('transcripts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcripts_testimony_id'), ['testimony_id'], unique=False)

    op.create_table('renditions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('testimony_id', sa.Integer(), nullable=False),
    sa.Column('audio_asset_id', sa.Integer(), nullable=True),
    sa.Column('transcript_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('redacted_segments', sa.JSON(), nullable=False),
    sa.Column('redactions', sa.JSON(), nullable=False),
    sa.Column('approved_by', sa.String(length=128), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audio_asset_id'], ['media_assets.id'], name=op.f('fk_renditions_audio_asset_id_media_assets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['testimony_id'], ['testimonies.id'], name=op.f('fk_renditions_testimony_id_testimonies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'], name=op.f('fk_renditions_transcript_id_transcripts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renditions'))
    )
    with op.batch_alter_table('renditions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_renditions_testimony_id'), ['testimony_id'], unique=False)

    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('start', sa.Double(), nullable=False),
    sa.Column('end', sa.Double(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('speaker', sa.String(length=64), nullable=True),
    sa.Column('avg_logprob', sa.Double(), nullable=True),
    sa.Column('no_speech_prob', sa.Double(), nullable=True),
    sa.Column('compression_ratio', sa.Double(), nullable=True),
    sa.Column('temperature', sa.Double(), nullable=True),
    sa.Column('low_confidence', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'], name=op.f('fk_segments_transcript_id_transcripts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments')),
    sa.UniqueConstraint('transcript_id', 'idx', name=op.f('uq_segments_transcript_id'))
    )
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_segments_transcript_id'), ['transcript_id'], unique=False)

    op.create_table('words',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('start', sa.Double(), nullable=False),
    sa.Column('end', sa.Double(), nullable=False),
    sa.Column('word', sa.String(length=256), nullable=False),
    sa.Column('probability', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_words_segment_id_segments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_words'))
    )
    with op.batch_alter_table('words', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_words_segment_id'), ['segment_id'], unique=False)
    themes = sa.table("themes", sa.column("slug", sa.String), sa.column("label", sa.String))
    op.bulk_insert(themes, [{"slug": slug, "label": label} for slug, label in THEMES])


def downgrade() -> None:

    with op.batch_alter_table('words', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_words_segment_id'))

    op.drop_table('words')
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_segments_transcript_id'))

    op.drop_table('segments')
    with op.batch_alter_table('renditions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_renditions_testimony_id'))

    op.drop_table('renditions')
    with op.batch_alter_table('transcripts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcripts_testimony_id'))

    op.drop_table('transcripts')
    op.drop_table('testimony_themes')
    with op.batch_alter_table('stage_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_status_testimony_id'))

    op.drop_table('stage_status')
    with op.batch_alter_table('sensitive_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sensitive_terms_testimony_id'))

    op.drop_table('sensitive_terms')
    with op.batch_alter_table('media_assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_assets_testimony_id'))
        batch_op.drop_index(batch_op.f('ix_media_assets_sha256'))
        batch_op.drop_index(batch_op.f('ix_media_assets_episode_id'))

    op.drop_table('media_assets')
    op.drop_table('episode_testimonies')
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_records_testimony_id'))

    op.drop_table('consent_records')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_testimony_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    op.drop_table('themes')
    op.drop_table('testimonies')
    op.drop_table('episodes')

