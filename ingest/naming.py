"""OpenLineage dataset names (namespace, name) from the URIs other systems record (naming spec).

``s3://bucket/path`` -> (``s3://bucket``, ``path``), ``postgres://host:5432/db.schema.table`` ->
(``postgres://host:5432``, ``db.schema.table``), a local path -> (``file``, path); see
https://openlineage.io/docs/spec/naming.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def dataset_name(uri: str) -> tuple[str, str]:
    """Return the OpenLineage (namespace, name) of a dataset URI or path."""
    parts = urlsplit(uri)
    if parts.scheme in ("", "file") or len(parts.scheme) == 1:  # a path (or a Windows drive letter)
        return "file", parts.path if parts.scheme == "file" else uri
    name = parts.path.lstrip("/") or parts.netloc
    if parts.query:
        name = f"{name}?{parts.query}"
    return f"{parts.scheme}://{parts.netloc}", name
