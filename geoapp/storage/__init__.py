"""Stores: where the service reads boundaries and OCOP data from."""

from geoapp.storage.base import DataMissingError, Detail, Store
from geoapp.storage.files import FileStore, pin_version, unpin_version

__all__ = ["DataMissingError", "Detail", "FileStore", "Store", "pin_version", "unpin_version"]
