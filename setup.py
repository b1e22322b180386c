"""A setuptools shim for tools and habits that call ``setup.py`` directly (the layout in
DESIGN.md asks for it). Everything is declared in pyproject.toml; ``pip install -e .``
(``make install``) reads it from there."""
from setuptools import setup

setup()
