"""The dialer: settings, database, lead import, campaigns, scheduling and dialing, carrier client, CLI."""
