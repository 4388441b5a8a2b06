"""adapters/console"""
