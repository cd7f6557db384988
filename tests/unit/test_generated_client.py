"""The generated client keeps the token out of sight and does not wait forever."""

from crm_client import AuthenticatedClient


def test_the_token_never_appears_in_the_client_repr() -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:1", token="sk_live_secret_123")
    client.get_httpx_client()  # builds the headers that carry the token
    assert "sk_live_secret_123" not in repr(client)
    assert "sk_live_secret_123" not in str(client)


def test_requests_time_out_by_default() -> None:
    timeout = AuthenticatedClient(base_url="http://127.0.0.1:1", token="t").get_httpx_client().timeout
    assert (timeout.connect, timeout.read) == (5.0, 60.0)
