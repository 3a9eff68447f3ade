NAME = "vendored mylib"
