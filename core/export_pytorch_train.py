# placeholder: the script frost export --pytorch writes (written next)
