"""Reading Bot API parameters the way Telegram does.

A bot may send parameters in the query string, as ``application/x-www-form-urlencoded``,
as JSON or as ``multipart/form-data`` (uploads).  Form values are always strings, so
numbers and booleans arrive as text and nested objects (``reply_markup``, ``scope``,
``commands``, ``entities``) arrive JSON-encoded inside a field.  :class:`Params`
hides those differences behind typed getters that fail with Telegram's 400s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from tgemu.errors import bad_request


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """Parameters of one request with typed, Telegram-flavoured accessors."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    def has(self, name: str) -> bool:
        value = self.values.get(name)
        return value is not None and value != ""

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(
        self, name: str, *, required: bool = False, missing: str | None = None
    ) -> str | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise bad_request(missing or f"parameter {name} is required")
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if not isinstance(value, str):
            raise bad_request(f'field "{name}" must be of type String')
        return value

    def get_int(
        self, name: str, *, required: bool = False, missing: str | None = None
    ) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(missing or f"parameter {name} is required")
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise bad_request(f'field "{name}" must be of type Integer')

    def get_float(self, name: str, *, required: bool = False) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"parameter {name} is required")
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise bad_request(f'field "{name}" must be of type Number')

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
        raise bad_request(f'field "{name}" must be of type Boolean')

    def get_json(self, name: str) -> Any:
        """A nested object: taken as is from JSON bodies, decoded from form strings."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value


async def read_params(request: web.Request) -> Params:
    """Merge query string and body (JSON, form or multipart) into :class:`Params`."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method in ("POST", "PUT") and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if isinstance(body, dict):
                values.update(body)
            elif body is not None:
                raise bad_request("JSON request body must be an object")
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    uploads[part.name] = Upload(
                        part.filename,
                        part.headers.get("Content-Type"),
                        bytes(await part.read(decode=True)),
                    )
                else:
                    values[part.name] = await part.text()
        elif ctype == "application/x-www-form-urlencoded" or not ctype:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    values[key] = value
        else:
            await request.read()
    return Params(values, uploads)
