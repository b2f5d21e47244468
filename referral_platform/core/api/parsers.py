"""The API's JSON parser: DRF's, with a body nested beyond what the decoder can follow (a
RecursionError, until now a 500) answered as what it is, an unparseable body (400), and a
note on the request (`input_suspect`) whether anything in the body may be what
`inputcheck.json_problems` refuses, so the common body skips that walk."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from .inputcheck import number_may_have_problem, text_may_have_problems


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        suspect = [text_may_have_problems(raw)]

        def parse_int(text):
            if number_may_have_problem(text):
                suspect[0] = True
            return int(text)

        def parse_float(text):
            if number_may_have_problem(text):
                suspect[0] = True
            return float(text)

        try:
            data = json.loads(
                raw.decode(encoding),
                parse_int=parse_int,
                parse_float=parse_float,
                parse_constant=json.strict_constant if self.strict else None,
            )
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deeply.")) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        request = parser_context.get("request")
        if request is not None:
            request.input_suspect = suspect[0]
        return data
