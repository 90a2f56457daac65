"""The UI shell: layout, navigation, language switch and shared front-end components."""
