"""Upload size limit, enforced while the body streams in: a file past
``DOCUMENT_MAX_BYTES`` is dropped (never written out in full) and the request is marked,
so the view can say why."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class SizeLimitUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.DOCUMENT_MAX_BYTES

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # noqa: N803
        self.limit = settings.DOCUMENT_MAX_BYTES
        self.request.upload_too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.upload_too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None
