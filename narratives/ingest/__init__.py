"""Reading input files into :class:`~narratives.schema.Document` objects (no database here).

Start with :func:`read_files`, which dispatches on file type and kind and never stops at the first
bad file.
"""

from narratives.ingest.attributes_file import AttributesLookup, read_attributes_file
from narratives.ingest.blogs import PostSpan, blog_documents, preview_split
from narratives.ingest.checks import DecodedText, decode_text, read_bytes_checked
from narratives.ingest.readers import (
    SUPPORTED_SUFFIXES,
    ReadBatch,
    ReadFailure,
    ReadOptions,
    read_file,
    read_files,
)
from narratives.ingest.survey import SurveyResult, read_survey
from narratives.ingest.transcript import find_turns, read_transcript

__all__ = [
    "SUPPORTED_SUFFIXES",
    "AttributesLookup",
    "DecodedText",
    "PostSpan",
    "ReadBatch",
    "ReadFailure",
    "ReadOptions",
    "SurveyResult",
    "blog_documents",
    "decode_text",
    "find_turns",
    "preview_split",
    "read_attributes_file",
    "read_bytes_checked",
    "read_file",
    "read_files",
    "read_survey",
    "read_transcript",
]
