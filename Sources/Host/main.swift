// Placeholder entry until the CLI lands; replaced by WorkbenchCommand.
print("workbench")
