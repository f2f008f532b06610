"""Pages for people: server-rendered Simplified Chinese HTML over the same services as the API.

Signed-in people carry a session cookie (HttpOnly, SameSite=Lax, Secure outside
development); every unsafe request carries a CSRF token. `/api/` keeps bearer tokens and
API keys and never reads the cookie.
"""
