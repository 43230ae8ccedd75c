"""Orchestration: plain stage functions (stages.py) composed by Prefect flows (pipeline.py)."""
