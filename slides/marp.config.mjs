// marp-cli's settings for offload.md. marp-cli finds this file when run from slides/;
// from anywhere else, pass it: `--config-file slides/marp.config.mjs`.
export default {
  options: {
    // A line break inside a paragraph is a space, as in every other Markdown renderer;
    // Marp's default (`breaks: true`) turns each one into a hard break.
    markdown: { breaks: false },
  },
};
