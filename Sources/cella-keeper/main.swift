print("keeper")
