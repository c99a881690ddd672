"""(being built: issue 14)"""
