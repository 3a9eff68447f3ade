NAME = "layer lib"
