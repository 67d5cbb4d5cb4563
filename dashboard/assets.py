"""Static files under content-hashed names: cached by browsers for a year, compressed once.

At start the app hashes every file under ``static/`` (its own CSS, JS and favicon, and the
libraries ``make install`` builds into ``static/vendor``). Templates ask
``asset_url('css/app.css')`` and get ``/assets/css/app.<hash>.css``; a changed file gets a
new name, so the old one can be cached ``immutable``. The files are answered by a small WSGI
layer in front of Flask: no session, no database, no per-request work beyond a dictionary
look-up. Text files are compressed once (brotli at its best setting, and gzip) and kept in
memory; the set is small (a few hundred KB).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import brotli
from flask import Flask, request

log = logging.getLogger(__name__)

PREFIX = "/assets/"
CACHE_CONTROL = "public, max-age=31536000, immutable"
COMPRESSIBLE = {"text/css", "text/javascript", "application/javascript", "image/svg+xml"}
MIN_COMPRESS_SIZE = 500  # smaller files gain nothing from it
SKIPPED_SUFFIXES = {".gz", ".br", ".map", ".scss"}

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _mimetype(path: Path) -> str:
    if path.suffix == ".js":
        return "text/javascript"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _accepts(accept_encoding: str, coding: str) -> bool:
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() == coding:
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


# (file, content hash, coding) -> bytes; shared by every app in the process (tests make many).
_encoded: dict[tuple[str, str, str], bytes] = {}
_encoded_lock = threading.Lock()


class _Asset:
    def __init__(self, path: Path, digest: str) -> None:
        self.path = path
        self.digest = digest
        self.mimetype = _mimetype(path)

    def body(self, coding: str) -> bytes:
        key = (str(self.path), self.digest, coding)
        with _encoded_lock:
            if key not in _encoded:
                data = self.path.read_bytes()
                if coding == "br":
                    data = brotli.compress(data, quality=11)
                elif coding == "gzip":
                    data = gzip.compress(data, compresslevel=9, mtime=0)
                _encoded[key] = data
            return _encoded[key]

    def coding_for(self, accept_encoding: str) -> str:
        if self.mimetype not in COMPRESSIBLE or self.path.stat().st_size < MIN_COMPRESS_SIZE:
            return "identity"
        for coding in ("br", "gzip"):
            if _accepts(accept_encoding, coding):
                return coding
        return "identity"


class Assets:
    """The hashed names of the files under ``root`` and a WSGI layer that serves them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.names: dict[str, str] = {}  # "css/app.css" -> "css/app.0123456789ab.css"
        self.files: dict[str, _Asset] = {}  # "css/app.0123456789ab.css" -> the file
        self.scan()

    def scan(self) -> None:
        names: dict[str, str] = {}
        files: dict[str, _Asset] = {}
        if self.root.is_dir():
            for path in sorted(self.root.rglob("*")):
                if not path.is_file() or path.suffix in SKIPPED_SUFFIXES:
                    continue
                if path.name.startswith("."):
                    continue
                logical = path.relative_to(self.root).as_posix()
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
                hashed = f"{logical[: -len(path.suffix)]}.{digest}{path.suffix}"
                names[logical] = hashed
                files[hashed] = _Asset(path, digest)
        self.names, self.files = names, files

    def url(self, logical: str) -> str:
        hashed = self.names.get(logical)
        if hashed is None:
            log.warning("asset %s is missing: run `make install`", logical)
            return f"{request.script_root}/static/{logical}"
        return f"{request.script_root}{PREFIX}{hashed}"

    def wrap(self, app: WSGIApp) -> WSGIApp:
        def middleware(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if not path.startswith(PREFIX) or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                return app(environ, start_response)
            return self._serve(path[len(PREFIX) :], environ, start_response)

        return middleware

    def _serve(
        self, name: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        asset = self.files.get(name)
        if asset is None:
            start_response(
                "404 NOT FOUND",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "9")],
            )
            return [b"Not found"]
        coding = asset.coding_for(environ.get("HTTP_ACCEPT_ENCODING", ""))
        etag = f'"{asset.digest}-{coding}"'
        headers = [
            ("Cache-Control", CACHE_CONTROL),
            ("ETag", etag),
            ("Vary", "Accept-Encoding"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if etag in re.findall(r'"[^"]*"', environ.get("HTTP_IF_NONE_MATCH", "")):
            start_response("304 NOT MODIFIED", headers)
            return []
        body = asset.body(coding)
        content_type = asset.mimetype
        if content_type.startswith("text/") or content_type == "image/svg+xml":
            content_type += "; charset=utf-8"
        headers += [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        if coding != "identity":
            headers.append(("Content-Encoding", coding))
        start_response("200 OK", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def init_app(app: Flask) -> Assets:
    assert app.static_folder is not None
    assets = Assets(Path(app.static_folder))
    app.extensions["assets"] = assets
    app.wsgi_app = assets.wrap(app.wsgi_app)  # type: ignore[method-assign,assignment]

    def asset_url(logical: str) -> str:
        if app.debug:  # files edited while the development server runs get their new name
            assets.scan()
        return assets.url(logical)

    app.jinja_env.globals["asset_url"] = asset_url
    return assets
