"""Where to report a vulnerability: /.well-known/security.txt (RFC 9116)."""

from __future__ import annotations


def test_security_txt(client, register):
    assert client.get("/.well-known/security.txt").status_code == 404  # no contact configured
    register.settings.security_contact = "mailto:security@register.test"
    body = client.get("/.well-known/security.txt").get_data(as_text=True)
    assert "Contact: mailto:security@register.test" in body and "Expires: " in body
