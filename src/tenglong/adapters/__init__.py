"""Adapters: files, spreadsheets and other outside formats in and out of tenglong."""
