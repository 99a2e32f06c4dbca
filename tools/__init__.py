"""The engine, the homework checker and the knowledge base as tools for the tutor."""
