"""What the API and the dashboard share from HTTP: the app's state, the request's session
and key check, the one error handler, the body limit."""
