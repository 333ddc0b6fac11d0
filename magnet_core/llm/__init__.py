"""The one LLM client every role shares (litellm underneath), and its local test server."""
