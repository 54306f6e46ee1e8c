print("cella")
