"""Notifications: an in-app inbox per user and outbound channels (SMS, WeChat)."""
