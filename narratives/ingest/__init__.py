"""Reading input files into :class:`~narratives.schema.Document` objects (no database here).

Start with :func:`iter_files`, which reads one file at a time (a :class:`FileRead` each, so a
caller can store a file before the next is opened), or :func:`read_files`, which reads a batch
into memory; both dispatch on file type and kind and never stop at the first bad file.
"""

from narratives.ingest.attributes_file import AttributesLookup, read_attributes_file
from narratives.ingest.blogs import (
    SPLIT_STRATEGIES,
    BlogSplit,
    PostSpan,
    blog_documents,
    preview_split,
    split_posts,
)
from narratives.ingest.captions import CueProblem, captions_document
from narratives.ingest.checks import DecodedText, decode_text, read_bytes_checked, read_text_checked
from narratives.ingest.readers import (
    SUPPORTED_SUFFIXES,
    FileRead,
    ReadBatch,
    ReadFailure,
    ReadOptions,
    expand_paths,
    iter_files,
    read_file,
    read_files,
)
from narratives.ingest.source_paths import source_file
from narratives.ingest.survey import SurveyReader, SurveyResult, read_survey, survey_reader
from narratives.ingest.transcript import find_turns, read_transcript, transcript_document

__all__ = [
    "SPLIT_STRATEGIES",
    "SUPPORTED_SUFFIXES",
    "AttributesLookup",
    "BlogSplit",
    "CueProblem",
    "DecodedText",
    "FileRead",
    "PostSpan",
    "ReadBatch",
    "ReadFailure",
    "ReadOptions",
    "SurveyReader",
    "SurveyResult",
    "blog_documents",
    "captions_document",
    "decode_text",
    "expand_paths",
    "find_turns",
    "iter_files",
    "preview_split",
    "read_attributes_file",
    "read_bytes_checked",
    "read_file",
    "read_files",
    "read_survey",
    "read_text_checked",
    "read_transcript",
    "source_file",
    "split_posts",
    "survey_reader",
    "transcript_document",
]
