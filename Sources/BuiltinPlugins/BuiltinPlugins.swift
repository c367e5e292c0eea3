public enum BuiltinPlugins {}
