"""Helpers for the real-browser tests: a live server on a free port and Debian's headless Chromium."""
