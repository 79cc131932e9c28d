from mapsite.gunicorn_logging import redact

TOKEN = "t14EAkvIyqZCMFdUizR_VyXiAf0HbucZPXiDuwhaP6E"


def test_tokens_are_removed_from_access_log_fields():
    assert redact(f"GET /b/{TOKEN}/ HTTP/1.1") == "GET /b/[token]/ HTTP/1.1"
    assert redact(f"/b/{TOKEN}") == "/b/[token]"
    assert TOKEN not in redact(f"POST /b/{TOKEN}/?x=1 HTTP/1.1")


def test_token_free_buyer_paths_stay_readable():
    assert redact("GET /b/room/tasks/1/ HTTP/1.1") == "GET /b/room/tasks/1/ HTTP/1.1"
    assert redact("POST /b/leave/ HTTP/1.1") == "POST /b/leave/ HTTP/1.1"
    assert redact(200) == 200
