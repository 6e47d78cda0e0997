import DeepNetEngine
print("deepnet-bench")
