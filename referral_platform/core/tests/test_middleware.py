"""Headers every answer gets, and the one JSON answers go without."""


def test_pages_carry_the_content_security_policy_and_json_answers_do_not(client, api):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "default-src 'self'" in page["Content-Security-Policy"]
    answer = api.get("/api/v1/programs")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    assert "Content-Security-Policy" not in answer
    # What JSON answers keep: the request id, and framing and sniffing refused.
    assert answer["X-Request-ID"] and answer["X-Frame-Options"] == "DENY"
    assert answer["X-Content-Type-Options"] == "nosniff"
