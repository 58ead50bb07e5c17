print("This step is not written yet.")
