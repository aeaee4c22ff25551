"""Writers: each turns a `handouts.model.Document` into one file format."""
