"""Where the console lives in the app's URL space."""

CONSOLE = "/console"
"""Every console page is under this prefix."""

STATIC = f"{CONSOLE}/static"
"""The vendored assets, CSS and the console's own script."""

LOGIN = f"{CONSOLE}/login"
