"""Coaching rules: roles and ownership, invites, cohorts, hand-off threads, what a coach sees.

No sending here: messages for other people are queued in the outbox (bot.storage) in the
caller's transaction and delivered by bot.delivery.
"""
