#!/usr/bin/env bash
# Downloads the public corpora used by DeepNetData into a target directory, in the layout that
# DEEPNET_DATA expects (the same layout as shared/data/README.md), and verifies SHA-256 checksums.
# Used by `make data`; never run by the tests.
#
#   scripts/download_data.sh [TARGET_DIR]        (default: ./data; then export DEEPNET_DATA=TARGET_DIR)
#
# Sources (raw files from public GitHub repositories, pinned to the commits the shared copy came from):
#   multi30k/   multi30k/dataset @ a3d2e0d26b56f3846f66a952536ffed4e401d05a, data/task1/raw/<split>.<lang>.gz
#               (+ multi30k-tok/test_2016_flickr.lc.norm.tok.en from data/task1/tok/, the hypothesis of the
#               fixture's `real_data` BLEU vector)
#   tatoeba/    Helsinki-NLP/OPUS-MT-testsets @ ac0f19c0be3cb4e0d9450fcb2d7a9847c4bdd180,
#               datasets/helsinki_nlp/tatoeba/testsets/<pair>/tatoeba-test-v2021-08-07.<lang>
#   newstest/   same repository, datasets/statmt/wmt_newstest/<year>/en-de/newstest<year>.<lang>
#   iwslt14/    johntzwei/nmt_iwslt @ 7750e75a0379bacdc3ad2f49da883116a69b3691,
#               iwslt14.tokenized.de-en/tmp/{test,valid}.{de,en} and lr_samples/first/train.{de,en}
#               (the training sample has its BPE removed with sed -E 's/(@@ )|(@@ ?$)//g')
# Licences: see shared/data/README.md (Multi30k: no licence stated, Flickr terms; Tatoeba: CC-BY 2.0 FR;
# IWSLT/TED: CC BY-NC-ND; WMT: research use).
#
# Options (environment): ONLY="multi30k tatoeba" to restrict the sets; SKIP_VERIFY=1 to skip checksums.
set -euo pipefail

TARGET="${1:-data}"
ONLY="${ONLY:-multi30k tatoeba newstest iwslt14}"
GH="https://raw.githubusercontent.com"
M30K="$GH/multi30k/dataset/a3d2e0d26b56f3846f66a952536ffed4e401d05a/data/task1"
OPUS="$GH/Helsinki-NLP/OPUS-MT-testsets/ac0f19c0be3cb4e0d9450fcb2d7a9847c4bdd180/datasets"
IWSLT="$GH/johntzwei/nmt_iwslt/7750e75a0379bacdc3ad2f49da883116a69b3691/iwslt14.tokenized.de-en"

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 3 -o "$2.part" "$1" && mv "$2.part" "$2"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2.part" "$1" && mv "$2.part" "$2"; }
else
  echo "error: need curl or wget" >&2; exit 1
fi

get() {  # get URL DEST: download unless DEST exists
  local url="$1" dest="$2"
  mkdir -p "$(dirname "$dest")"
  if [ -s "$dest" ]; then return 0; fi
  echo "  $dest"
  if ! fetch "$url" "$dest"; then
    rm -f "$dest.part"; echo "error: download failed: $url" >&2; exit 1
  fi
}

wants() { case " $ONLY " in *" $1 "*) return 0;; *) return 1;; esac; }

mkdir -p "$TARGET"
cd "$TARGET"

if wants multi30k; then
  echo "Multi30k (task 1, raw)"
  for split in train val test_2016_flickr test_2017_flickr test_2017_mscoco test_2018_flickr; do
    for lang in en de fr cs; do
      case "$split.$lang" in test_2017_flickr.cs|test_2017_mscoco.cs) continue;; esac
      get "$M30K/raw/$split.$lang.gz" "multi30k/$split.$lang.gz"
    done
  done
  get "$M30K/tok/test_2016_flickr.lc.norm.tok.en" "multi30k-tok/test_2016_flickr.lc.norm.tok.en"
fi

if wants tatoeba; then
  echo "Tatoeba Challenge test sets v2021-08-07 (13 English-centric pairs)"
  for pair in ces-eng dan-eng deu-eng eng-fin eng-fra eng-hun eng-ita eng-nld eng-pol eng-por eng-spa eng-swe eng-tur; do
    for lang in ${pair%-*} ${pair#*-}; do
      get "$OPUS/helsinki_nlp/tatoeba/testsets/$pair/tatoeba-test-v2021-08-07.$lang" "tatoeba/$pair.$lang"
    done
  done
fi

if wants newstest; then
  echo "WMT newstest2014 / newstest2017 en-de"
  for year in 2014 2017; do
    for lang in en de; do
      get "$OPUS/statmt/wmt_newstest/$year/en-de/newstest$year.$lang" "newstest/newstest$year.en-de.$lang"
    done
  done
fi

if wants iwslt14; then
  echo "IWSLT'14 de-en (fairseq prepare-iwslt14.sh output)"
  for f in test valid; do
    for lang in de en; do get "$IWSLT/tmp/$f.$lang" "iwslt14/$f.$lang"; done
  done
  for lang in de en; do
    if [ ! -s "iwslt14/train-sample.$lang" ]; then
      get "$IWSLT/lr_samples/first/train.$lang" "iwslt14/.train-bpe.$lang"
      sed -E 's/(@@ )|(@@ ?$)//g' "iwslt14/.train-bpe.$lang" > "iwslt14/train-sample.$lang"
      rm -f "iwslt14/.train-bpe.$lang"
    fi
  done
fi

if [ "${SKIP_VERIFY:-0}" != "1" ]; then
  echo "Verifying SHA-256 checksums"
  sums=$(mktemp)
  trap 'rm -f "$sums"' EXIT
  cat > "$sums" <<'SUMS'
200a4a74cc9560f051924abb9803be008d1908d77f747e9141aeb86dfd2797f1  multi30k/test_2016_flickr.cs.gz
9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8  multi30k/test_2016_flickr.de.gz
611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9  multi30k/test_2016_flickr.en.gz
6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90  multi30k/test_2016_flickr.fr.gz
a2c89666db00c495cd8513b9d708d5a3acc205d7de312ef2bf5fb7ebc1540aee  multi30k/test_2017_flickr.de.gz
76a444ee25172e72695cddb13ae4a3bda59430617be88e0bb46b60504f054074  multi30k/test_2017_flickr.en.gz
3ba671ceb2299f3304ffafefea7a833d08632fbaf0ba18546f8a2ec2391af496  multi30k/test_2017_flickr.fr.gz
799e4854c25d601cb6cb6be29eabe5667734c61ace2f495e03e429031a0bc338  multi30k/test_2017_mscoco.de.gz
aab300bfb4427697987e02cd0aacd44bfe8aa50456231b6474c08038bbed2b58  multi30k/test_2017_mscoco.en.gz
754f3072ba9f124569ba5258b32730fc1d214bbf8e0c6dfb2b74401676220db0  multi30k/test_2017_mscoco.fr.gz
7d0a9db904f94c554a8c58049a9f3a5357c27f46cc3d710d70cb0b4a2585b8c2  multi30k/test_2018_flickr.cs.gz
ddd0130c7d97482dc5197a02141dae8dd79f20f03586c480d675c09a32daf608  multi30k/test_2018_flickr.de.gz
ef4f4844037d4c5dea75c9a8ed5fd78905967a26f67c255e230cc9780032654d  multi30k/test_2018_flickr.en.gz
fb2b83fcceb937a4f7e3e93c1c51c22aba92f1e342391e6b5ba392b16a920501  multi30k/test_2018_flickr.fr.gz
a65adb8b32e3bc664f21ecba7a6e7f6950fd1f405e135f7c312faabdb6255077  multi30k/train.cs.gz
726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6  multi30k/train.de.gz
d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f  multi30k/train.en.gz
622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c  multi30k/train.fr.gz
b63226e05c4bd5dd6a42897d74b86a1b9d2c31498252c572b1ea7f7996927fcc  multi30k/val.cs.gz
f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a  multi30k/val.de.gz
14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28  multi30k/val.en.gz
ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9  multi30k/val.fr.gz
e718c783e33160b7d72af8f733756a466e0d0c016eff8ab624c1b0d1d01cbbdf  iwslt14/test.de
4b127beb9050511a3e6209cd837ff36f623a3a423666b32aba6e208b7330cf4c  iwslt14/test.en
7951bdd2a3ba41401bb47d9f06ec9d536a8083c304f89f32c9477408b2294621  iwslt14/train-sample.de
a6f0e0023229f216cf19603792572f25edde54a935f872a9241666dca6730dbb  iwslt14/train-sample.en
3f051579c9d8c7281a6ea8c72ad4ae09dbaa9bb24dfd41166f2c3a3df7cd940a  iwslt14/valid.de
e6d7317a9772cd1ed970910c611e9e7dada1f34439269b44a9d801334bff948d  iwslt14/valid.en
ae5d110486bc33d7175e9e28c7d0051eb3e5fcd2166dd93371089852c091a20e  newstest/newstest2014.en-de.de
7294bccf2879a97b3706b95c9595f1459617a8ee7130d5d8581c910e69736971  newstest/newstest2014.en-de.en
675e4f7e6045dacf56507e29b24106d771a571e0eb58d822806b086cdcf892f4  newstest/newstest2017.en-de.de
11adaec47477928dab9cb3fc9279d99dbbbfec7161f3abf6fddd759668fcd703  newstest/newstest2017.en-de.en
82d71216da44fc76c161cb811cef0ec2752cb6500b7283083d2c81b4102c2571  tatoeba/ces-eng.ces
3fa90d9fa699ce09616d8c35f6a41eca23d7a9b75bcc2c1ee3e7a460b4e652f4  tatoeba/ces-eng.eng
5de93d4bd652eed4d0ced9512be44984d7840b8628aea2d6111a32082f29e655  tatoeba/dan-eng.dan
66e5ece697e4470ee2d5a3a265a987b3a5e925c52398fc25f9c4110cd0e666b2  tatoeba/dan-eng.eng
a06d3300c05158e83bb5c1709a0bf5aecc2e28c895e66f03b1c914a7fdd8c8c6  tatoeba/deu-eng.deu
5d0e3169914a5e3f4ca7bdec670880f2025385c5a7e29547d9cbd7992105e77f  tatoeba/deu-eng.eng
0592b64bf9e077b10b66219b4eb336f12537e7a0d2866411e90743244cc56602  tatoeba/eng-fin.eng
b851b51c340e151d442694416f44da4481b531ab14cab19f4ab6f53668b37f74  tatoeba/eng-fin.fin
714a848bd6ab4421cafd1b9b09fd26328306fab1bc8006e820fa77a8cbe57636  tatoeba/eng-fra.eng
095313ff04016e5ddeff7557d1c5590f19724d239e424cab313b2d03ca66d365  tatoeba/eng-fra.fra
e5109eec124b9b1a2504bfbeb3934bb823c8fc942e5eef6535731bc283f40c0d  tatoeba/eng-hun.eng
ac3a1176074c812d18d432bb8f6e7796d761c06c39d3d88594ca0bd9716c14a5  tatoeba/eng-hun.hun
ef0c6a6d746c0d53e6496ac1073db91d4efe51d21c7a586bbbaa0f3660e938e4  tatoeba/eng-ita.eng
3735d63c036d6e7359c708c14c793f282ff84dd6f3c83353edb50085d0a958e1  tatoeba/eng-ita.ita
9153a68be809fc9622931bb42784eca6b55c860913960b7b3d7f6c8684b09bcf  tatoeba/eng-nld.eng
751bdb5102940e7c9f9896ef39331b1747959df2081ba59b76f0f9550b91c946  tatoeba/eng-nld.nld
f50bafc8d8b6859774a0368a644317febcafb089805863053cef7735f5ffed21  tatoeba/eng-pol.eng
91ae42bec6903adfa80def5e1b74a6d4af6f9f75bdd80fa8a914d46cba1e5734  tatoeba/eng-pol.pol
e6e3bdd486f121fe4876439d92bf52cdc6faab7cdf816888360465bc61f11fab  tatoeba/eng-por.eng
8a5148ff3b5515cb4948e9b17621bed646851c13ad1d217c2e4ab6e3ac081389  tatoeba/eng-por.por
74da6b3ced819694959c14aadda79876abcd8d0aa6163a79fa4381bfb473c23e  tatoeba/eng-spa.eng
204c4d49224aa8bb974927daee66368c1b00068e3b6815fdba41d1265699cd93  tatoeba/eng-spa.spa
c65c6c5ed919846cc8b56f7a22310ecbcef4a80df48a7584028668640cbd8c01  tatoeba/eng-swe.eng
d071bd74ed560af8f2486bab6bf1240765f3dee1b1f1887da58aacd60cb8b450  tatoeba/eng-swe.swe
f316c20e76fbdc939495e5abe74e5b81bc1920663ba8106c4ecf56d21230187f  tatoeba/eng-tur.eng
0622af57035c6df8ed9e2018a81757142941d7864362dc3b4b11be5f406eefd4  tatoeba/eng-tur.tur
SUMS
  # Verify only the files that were requested (and therefore downloaded).
  grep -E " ($(echo "$ONLY" | sed 's/ \+/|/g'))/" "$sums" > "$sums.sel" || true
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum --quiet -c "$sums.sel"
  else
    shasum -a 256 --quiet -c "$sums.sel"
  fi
  rm -f "$sums.sel"
  echo "All checksums OK"
fi
echo "Done. Use: export DEEPNET_DATA=$(pwd)"
