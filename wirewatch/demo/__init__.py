"""The bundled demo corpus and configuration (package data)."""
