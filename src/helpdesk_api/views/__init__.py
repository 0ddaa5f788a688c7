"""Saved views: agents' ticket lists with conditions, sort and columns, and badge counts."""
