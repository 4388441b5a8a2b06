"""bot/engine"""
