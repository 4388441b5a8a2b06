"""bot/scenario"""
