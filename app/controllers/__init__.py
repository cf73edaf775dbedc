"""HTTP controllers: convert, call one service method, return."""
