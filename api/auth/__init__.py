"""Who is calling: bearer tokens (HS256 or JWKS) and API keys, turned into a principal with roles."""
