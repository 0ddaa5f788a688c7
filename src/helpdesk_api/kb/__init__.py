"""The knowledge base: categories, sections and articles with per-locale translations,
full-text search in each language, the public self-service API, votes and suggestions."""
