// The answer layout (`ReFTFormat`) is its own module so the built-in rewards can share it
// without depending on the Engine; the Engine's users see it as part of the Engine.
@_exported import AnswerFormat
