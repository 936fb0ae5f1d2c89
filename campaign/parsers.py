"""The API's JSON parser: the one rule that a request body is a JSON object.

Kept in a module that imports nothing but DRF's parsers, so settings can name it as the default parser
without DRF's views importing the project's viewsets while they load."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NOT_AN_OBJECT = '请求体应为 JSON 对象，例如 {"reason": "……"}；请不要发送 null、数字、字符串或列表。'


class ObjectJSONParser(JSONParser):
    """JSON whose top level is an object, the only shape any endpoint of this API reads.

    DRF parses the body lazily, on the first read of ``request.data``, so a view that checks who may act
    before it reads the body answers 401/403/404 first, whatever the body is."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if not isinstance(data, dict):
            raise ParseError(NOT_AN_OBJECT)
        return data
