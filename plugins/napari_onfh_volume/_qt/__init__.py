"""Qt widgets of the plugin (the models they show live one level up)."""
