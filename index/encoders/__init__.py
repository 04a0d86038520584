"""One module per sentence encoder behind the `index.embedder.Embedder` protocol."""
