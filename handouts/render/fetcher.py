"""The only way WeasyPrint may read a file: from the project's layout folders.

WeasyPrint would otherwise follow any URL a document names (`file:///etc/passwd`,
`http://...`) and could even attach files to the PDF. Everything else is refused and
stops the render.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

MAX_ASSET_BYTES = 5_000_000


class RefusedURL(FatalURLFetchingError):
    """A layout or source named a URL outside the asset folders."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"refused to load '{url}': {reason}")
        self.url = url
        self.reason = reason


class AssetFetcher(URLFetcher):
    """Serves `file:` URLs under the allowed folders; refuses everything else."""

    def __init__(self, allowed: list[Path]):
        super().__init__(fail_on_errors=True)
        self.allowed = [folder.resolve() for folder in allowed]

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedURL(url, "only the project's own layout files may be used")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(folder) for folder in self.allowed):
            raise RefusedURL(url, "the file is outside the layout folders")
        if not path.is_file():
            raise RefusedURL(url, "no such file in the layout folders")
        if path.stat().st_size > MAX_ASSET_BYTES:
            raise RefusedURL(url, f"the file is larger than {MAX_ASSET_BYTES} bytes")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})
