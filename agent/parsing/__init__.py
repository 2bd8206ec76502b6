"""Readers: turn a station's Excel file into arrays per track, or a precise error."""
