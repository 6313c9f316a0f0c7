{
  "targets": [
    {
      "target_name": "aead",
      "sources": ["src/native/aead.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
